# expect: pass
import sys

input()
print(sum(map(int, input().split())))
sys.exit(0)
