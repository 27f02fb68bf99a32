# expect: error test=0
class Solution:
    def pairSums(self, nums, target):
        block = bytearray(1 << 30)
        return [[len(block), 0]]
