# expect: fail test=0
n = int(input())
for i in range(1, n):
    print(*(i * j for j in range(1, n + 1)))
