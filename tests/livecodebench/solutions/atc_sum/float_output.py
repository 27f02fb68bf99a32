# expect: fail upstream=pass test=0
input()
print(float(sum(map(int, input().split()))))
