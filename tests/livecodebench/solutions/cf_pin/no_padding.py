# expect: fail upstream=pass test=1
print(int(input()))
