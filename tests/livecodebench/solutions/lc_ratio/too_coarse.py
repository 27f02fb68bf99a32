# expect: fail test=1
class Solution:
    def chance(self, n: int) -> float:
        return round(1 / n, 2)
