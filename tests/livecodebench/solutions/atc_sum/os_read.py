# expect: pass
import os

data = b""
while chunk := os.read(0, 1 << 16):
    data += chunk
print(sum(map(int, data.split()[1:])))
