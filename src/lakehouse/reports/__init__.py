"""Pages and reports for people: the KPI dashboard, the EDA report, the run summary, the model report."""
