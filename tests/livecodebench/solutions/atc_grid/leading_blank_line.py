# expect: fail upstream=pass test=0
n = int(input())
print()
for i in range(1, n + 1):
    print(*(i * j for j in range(1, n + 1)))
