# expect: error test=0
class Solution:
    def pair_sums(self, nums, target):
        return []
