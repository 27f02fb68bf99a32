# expect: error test=0
class Solution:
    def pairSums(self, nums, target)
        return []
