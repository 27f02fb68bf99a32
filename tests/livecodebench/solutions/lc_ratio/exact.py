# expect: pass
class Solution:
    def chance(self, n: int) -> float:
        return 1 / n
