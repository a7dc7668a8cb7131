"""Import and export formats. Each turns files into ArticleDraft values (or back) and stores nothing."""
