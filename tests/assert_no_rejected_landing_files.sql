{{ config(severity='warn', store_failures=true) }}
{#- Warning, not a stop: a landing file of the last 7 days that could not be read (a corrupted gzip) or
    held nothing. The other files were ingested; the sender should re-deliver this one. The rows are
    stored for audit in the test's failures table. -#}

select
    source_dir,
    file_path,
    file_size,
    status,
    problem,
    inspected_at
from {{ ref('brz_landing_files') }}
where
    status != 'ok'
    and inspected_at >= current_timestamp() - interval 7 days
