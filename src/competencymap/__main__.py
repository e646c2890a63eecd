from competencymap.cli import main

main()
