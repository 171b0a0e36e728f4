"""The public surface is deliberate: this test changes when it does."""

import helioscope
import helioscope.export
import helioscope.helicone_import
import helioscope.testing


def test_exported_members() -> None:
    assert helioscope.__all__ == ["Settings", "__version__", "create_app"]
    assert helioscope.testing.__all__ == ["FakeProvider", "ReceivedCall", "serve"]


def test_export_and_import_members() -> None:
    # The UI's export builds on these; the import is usable from code as from the CLI.
    assert helioscope.export.__all__ == [
        "COLUMNS",
        "COLUMN_NAMES",
        "FORMATS",
        "Encoder",
        "ExportChunk",
        "ExportFormat",
        "ExportQuery",
        "FormatUnavailable",
        "count",
        "export_chunks",
        "neutralise",
        "open_encoder",
        "record_pages",
        "to_record",
    ]
    assert helioscope.helicone_import.__all__ == [
        "CheckpointMismatch",
        "DEFAULT_BASE_URL",
        "HeliconeClient",
        "ImportOptions",
        "ImportResult",
        "Progress",
        "SilentProgress",
        "SourceError",
        "Tally",
        "retry_after_seconds",
        "run_import",
    ]
