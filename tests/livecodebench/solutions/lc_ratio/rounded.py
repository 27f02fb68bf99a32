# expect: pass upstream=fail upstream_test=1
class Solution:
    def chance(self, n: int) -> float:
        return round(1 / n, 6)
