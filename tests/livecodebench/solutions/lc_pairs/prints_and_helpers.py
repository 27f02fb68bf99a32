# expect: pass
from typing import List


def pairs(n):
    print("helper called with", n)
    return [(i, j) for i in range(n) for j in range(i + 1, n)]


class Solution:
    def pairSums(self, nums: List[int], target: int) -> List[List[int]]:
        print("debugging output is ignored")
        return [[i, j] for i, j in pairs(len(nums)) if nums[i] + nums[j] == target]


if __name__ == "__main__":
    print(Solution().pairSums(list(map(int, input().split())), int(input())))
