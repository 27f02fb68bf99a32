# expect: fail test=1
input()
a = list(map(int, input().split()))
print(sum(a) if len(a) > 2 else 0)
