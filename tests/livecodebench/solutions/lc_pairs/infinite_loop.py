# expect: timeout test=0
class Solution:
    def pairSums(self, nums, target):
        while True:
            pass
