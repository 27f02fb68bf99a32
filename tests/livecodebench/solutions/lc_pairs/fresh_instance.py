# expect: pass
class Solution:
    seen = []

    def __init__(self):
        self.calls = 0

    def pairSums(self, nums: List[int], target: int) -> List[List[int]]:
        # Correct only on the first call of a fresh instance in a fresh process.
        self.calls += 1
        Solution.seen.append(target)
        if self.calls > 1 or len(Solution.seen) > 1:
            return []
        return [[i, j] for i in range(len(nums)) for j in range(i + 1, len(nums)) if nums[i] + nums[j] == target]
