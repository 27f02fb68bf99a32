# expect: pass
input()
print(sum(map(int, input().split())))
exit()
print("never printed")
