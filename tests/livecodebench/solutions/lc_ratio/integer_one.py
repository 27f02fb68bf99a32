# expect: pass
class Solution:
    def chance(self, n: int) -> float:
        return 1 if n == 1 else 1 / n
