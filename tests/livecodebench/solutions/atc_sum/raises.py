# expect: error test=0
input()
values = list(map(int, input().split()))
print(values[len(values)])
