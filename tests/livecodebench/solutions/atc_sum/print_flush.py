# expect: pass
import sys

input()
print(sum(map(int, input().split())), flush=True)
sys.stdout.flush()
