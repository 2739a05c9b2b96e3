"""The township assessment (考核) of case handling: repeat reports, falsified cases, quotas,
the yearly score of each township, its page, exports and frozen snapshots."""
