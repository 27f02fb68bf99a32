# expect: fail test=0
print(0)
