from emonet.cli import main

raise SystemExit(main())
