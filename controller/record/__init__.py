"""The congress record: the counting committee's vote-count record and the minutes of the whole
congress, as PDF (ReportLab, Noto Sans embedded) and HTML; reads the programme, attendance, voting and
audit areas and writes nothing."""
