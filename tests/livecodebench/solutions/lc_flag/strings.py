# expect: fail test=0
class Solution:
    def isBalanced(self, s: str) -> bool:
        return "true"
