# expect: pass
def main():
    input()
    print(sum(map(int, input().split())))


if __name__ == "__main__":
    main()
