from losscli._console import main

main()
