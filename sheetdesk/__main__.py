from sheetdesk.cli import main

main()
