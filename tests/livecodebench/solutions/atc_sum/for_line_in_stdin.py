# expect: pass
import sys

rows = [line for line in sys.stdin]
print(sum(int(x) for x in rows[1].split()))
