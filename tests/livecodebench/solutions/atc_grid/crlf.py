# expect: pass
import sys

n = int(input())
sys.stdout.write("".join(" ".join(str(i * j) for j in range(1, n + 1)) + "\r\n" for i in range(1, n + 1)))
