# expect: error test=0
def pairSums(nums, target):
    return []
