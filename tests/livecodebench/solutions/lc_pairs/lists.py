# expect: pass
class Solution:
    def pairSums(self, nums: List[int], target: int) -> List[List[int]]:
        return [[i, j] for i in range(len(nums)) for j in range(i + 1, len(nums)) if nums[i] + nums[j] == target]
