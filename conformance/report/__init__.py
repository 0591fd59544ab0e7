"""Reports of a conformance run, all rendered from results.json: conformance.html, junit.xml, trace.pcapng;
baseline waivers (``conformance.report.baseline``) and the Allure trace attachment
(``conformance.report.allure``).
"""

from conformance.report.cli import main
from conformance.report.results import ResultsError, load_results, results_schema, validate_results
from conformance.report.writer import write_reports

__all__ = ["ResultsError", "load_results", "main", "results_schema", "validate_results", "write_reports"]
