# expect: fail test=0
class Solution:
    def pairSums(self, nums, target):
        return {(i, j) for i in range(len(nums)) for j in range(i + 1, len(nums)) if nums[i] + nums[j] == target}
