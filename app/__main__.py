"""``python -m app`` opens the review app (same as ``lesionlens``)."""

import sys

from app.main import main

sys.exit(main())
