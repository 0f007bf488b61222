-- Nothing lost: per batch, bronze rows = silver rows + quarantined rows + removed duplicates.
-- Returns the batches that do not reconcile.

with bronze as (

    select
        batch_id,
        count(*) as bronze_rows
    from {{ ref('brz_rees46__events') }}
    group by batch_id

),

silver as (

    select
        batch_id,
        count(*) as silver_rows
    from {{ ref('int_events_validated') }}
    group by batch_id

),

duplicates as (

    select
        batch_id,
        count(*) as duplicates_removed
    from {{ ref('int_events_duplicates') }}
    group by batch_id

),

quarantine as (

    select
        batch_id,
        count(*) as quarantined_rows
    from {{ ref('int_events_quarantined') }}
    group by batch_id

),

reconciled as (

    select
        bronze.batch_id,
        bronze.bronze_rows,
        coalesce(silver.silver_rows, 0) as silver_rows,
        coalesce(quarantine.quarantined_rows, 0) as quarantined_rows,
        coalesce(duplicates.duplicates_removed, 0) as duplicates_removed
    from bronze
    left join silver
        on bronze.batch_id = silver.batch_id
    left join quarantine
        on bronze.batch_id = quarantine.batch_id
    left join duplicates
        on bronze.batch_id = duplicates.batch_id

)

select *
from reconciled
where bronze_rows != silver_rows + quarantined_rows + duplicates_removed
