# expect: error test=0
import sys

input()
print(sum(map(int, input().split())))
sys.exit(1)
