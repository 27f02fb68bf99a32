# expect: pass
import sys

rows = sys.stdin.readlines()
print(sum(map(int, rows[1].split())))
