//! Parser tests: the shapes the grammar builds and the errors it reports.
