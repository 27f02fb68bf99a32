# expect: pass
import sys

lines = []
while True:
    line = sys.stdin.readline()
    if not line:
        break
    lines.append(line)
print(sum(map(int, lines[1].split())))
