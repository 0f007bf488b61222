{#-
    Incremental Silver: each run processes only the Bronze rows delivered since the model's last run.
    Bronze stamps every row of a run with the run's `ingested_at`, and a dbt run refuses to start while
    another holds the lakehouse, so "newer than the newest `ingested_at` already here" is exactly "the
    batches this model has not seen". A batch that left no row here (e.g. no duplicate in it) is read again
    next run and again leaves none: correct, and cheap because its rows are few.
    The same high-water mark on another run-time column: fct_events passes Silver's `updated_at` (the rows
    written since its last run), ml_feature_drift `scored_at` (the snapshots scored since its last run).
-#}

{% macro delivered_since_last_run(column='ingested_at') -%}
    {%- if is_incremental() -%}
        {{ column }} > (
            select coalesce(max(this_run.{{ column }}), timestamp '1900-01-01') from {{ this }} as this_run
        )
    {%- else -%}
        true
    {%- endif -%}
{%- endmacro %}


{#-
    Incremental Gold by day: the days of the events fct_events merged since this model's last run. Each daily
    model (agg_daily_product_stats, agg_funnel_daily, ml_user_item_daily) stores per row the newest
    `updated_at` of the events it was computed from (`events_updated_at`); a run recomputes every day with
    an event merged after the newest of those, whatever the day's age, and replaces each such day whole.
    `true` on a full build.
-#}
{% macro days_fct_events_merged() -%}
    {%- if is_incremental() -%}
        {%- set merged_days -%}
            select distinct merged.event_date
            from {{ ref('fct_events') }} as merged
            where merged.updated_at > (
                select coalesce(max(this_run.events_updated_at), timestamp '1900-01-01') from {{ this }} as this_run
            )
        {%- endset -%}
        -- the lower bound is a scalar, which prunes fct_events' date partitions before the scan; the IN list
        -- alone is a dynamic pruning filter that Spark evaluates as a join over every partition
        event_date >= (select min(event_date) from ({{ merged_days }}) as merged_days)
        and event_date in ({{ merged_days }})
    {%- else -%}
        true
    {%- endif -%}
{%- endmacro %}


{#-
    Duplicates across batches (int_events_ranked): the valid rows already stored, counted per event key,
    for the keys of the new batch. A new row's rank among its duplicates is that count plus its rank within
    the batch, so an event re-delivered in a later batch ranks after the copy kept earlier, exactly as a
    full rebuild ranks it (the earliest delivered wins). Only stored rows from the new batch's first event
    date on are read. keys: SQL expressions over the model's columns (the duplicate key), all not null for
    valid rows.
-#}
{% macro earlier_deliveries(keys, new_rows) -%}
    select
        {% for key in keys -%}
            {{ key }} as delivered_key_{{ loop.index }},
        {% endfor -%}
        count(*) as rows_delivered
    from {{ this }}
    where
        quarantine_reason is null
        and event_date >= (
            select min(cast(event_at as date)) from {{ new_rows }} where quarantine_reason is null
        )
    group by {% for key in keys %}{{ key }}{% if not loop.last %}, {% endif %}{% endfor %}
{%- endmacro %}


{% macro earlier_deliveries_match(keys, alias='delivered') -%}
    {%- for key in keys -%}
        {{ key }} = {{ alias }}.delivered_key_{{ loop.index }}{% if not loop.last %} and {% endif %}
    {%- endfor -%}
{%- endmacro %}


{#-
    Incremental Gold by user (dim_users): the users some of whose events fct_events wrote since this
    model's last run (`events_updated_at` is the mark: the newest `updated_at` among a stored row's
    events), as a subquery of `user_id`s. The model recomputes these users' rows from all their events.
-#}
{% macro users_with_new_events() -%}
    select distinct touched.user_id
    from {{ ref('fct_events') }} as touched
    where touched.updated_at > (
        select coalesce(max(this_run.events_updated_at), timestamp '1900-01-01') from {{ this }} as this_run
    )
{%- endmacro %}


{#-
    Incremental Gold by session (fct_sessions): the events fct_events wrote since this model's last run
    (`events_updated_at` is the mark), as a subquery of (user_session_id, event_date). A late event that
    re-derives a session makes int_events_validated rewrite every event whose session changed, so each
    session that changed has such an event, and a session that vanished had all of its events rewritten.
-#}
{% macro session_events_since_last_run() -%}
    select touched.user_session_id, touched.event_date
    from {{ ref('fct_events') }} as touched
    where touched.updated_at > (
        select coalesce(max(this_run.events_updated_at), timestamp '1900-01-01') from {{ this }} as this_run
    )
{%- endmacro %}


{#-
    The first day an event of a changed session can fall on: the earliest day of the events written since
    the last run, or of the stored start of a session they belong to (its unchanged events are no older).
    A scalar subquery: fct_events' date partitions before it are pruned.
-#}
{% macro first_day_of_changed_sessions() -%}
    select min(first_day) from (
        select touched.event_date as first_day from ({{ session_events_since_last_run() }}) as touched
        union all
        select stored.session_date as first_day
        from {{ this }} as stored
        where stored.user_session_id in (select changed.user_session_id from ({{ session_events_since_last_run() }}) as changed)
    ) as first_days
{%- endmacro %}


{#-
    A pre-hook of the models incremental by user: a table stored before it had the `events_updated_at`
    mark gets the column, empty, so the run recomputes every user once (no mark is "before everything")
    and the merge fills it. Hooks do not run in unit tests, which mock the stored table.
-#}
{% macro add_missing_mark_column(column='events_updated_at') -%}
    {%- set relation = adapter.get_relation(this.database, this.schema, this.identifier) if execute else none -%}
    {%- if relation is not none and not should_full_refresh()
        and column not in (adapter.get_columns_in_relation(relation) | map(attribute='name') | list) -%}
        alter table {{ relation }} add columns ({{ column }} timestamp)
    {%- else -%}
        select 1
    {%- endif -%}
{%- endmacro %}


{#-
    A pre-hook of a model incremental by day whose stored table can predate some of its columns: when one
    of `columns` is missing, the stored rows are deleted, so this run recomputes every day (the mark
    `events_updated_at` goes with them) and on_schema_change adds the columns. Old days with the new
    columns empty would otherwise stay next to new days with them filled.
-#}
{% macro recompute_days_without_columns(columns) -%}
    {%- set relation = adapter.get_relation(this.database, this.schema, this.identifier) if execute else none -%}
    {%- set stored = adapter.get_columns_in_relation(relation) | map(attribute='name') | list
        if relation is not none else [] -%}
    {%- if relation is not none and not should_full_refresh() and columns | reject('in', stored) | list -%}
        delete from {{ relation }}
    {%- else -%}
        select 1
    {%- endif -%}
{%- endmacro %}


{#-
    A pre-hook of fct_sessions (keyed by session), run before the mark moves: delete the stored rows whose
    derived session no longer has an event in fct_events (a late event merged it into a neighbour: its
    events were rewritten with the neighbour's id). Delivered sessions never change, so only derived ones
    are looked at, and only from the first day of the events written since the last run (a vanished
    session's first event is one of them); nothing is run when no event was written. A merge rather than a
    delete with a subquery: both engines run it.
-#}
{% macro delete_vanished_sessions(session_column) -%}
    {#- the first day as a literal: Delta refuses a merge whose source reads the target in a scalar subquery -#}
    {%- set first_day = none -%}
    {%- if execute and is_incremental() -%}
        {%- set found = run_query(
            'select min(touched.event_date) from (' ~ session_events_since_last_run() ~ ') as touched'
        ) -%}
        {%- set first_day = found.columns[0].values()[0] -%}
    {%- endif -%}
    {%- if first_day is not none -%}
        merge into {{ this }} as stored
        using (
            select stored_sessions.{{ session_column }}
            from {{ this }} as stored_sessions
            left anti join (
                select distinct live_events.user_session_id
                from {{ ref('fct_events') }} as live_events
                where live_events.is_session_derived and live_events.event_date >= date'{{ first_day }}'
            ) as live
                on stored_sessions.{{ session_column }} = live.user_session_id
            where stored_sessions.is_session_derived and stored_sessions.session_date >= date'{{ first_day }}'
        ) as vanished
            on stored.{{ session_column }} = vanished.{{ session_column }}
        when matched then delete
    {%- else -%}
        select 1
    {%- endif -%}
{%- endmacro %}


{#- The feature mart's post-hook: a snapshot computed again can draw other users (a late event changes
    its pair count), and a merge (Databricks) keeps the rows of users no longer drawn; they carry the
    snapshot's earlier `input_fingerprint`, so they are deleted. Locally the run overwrites the snapshot's
    partition and this deletes nothing. -#}
{% macro delete_redrawn_snapshot_rows() -%}
    {%- if is_incremental() -%}
        merge into {{ this }} as stored
        using {{ ref('ml_feature_snapshot_inputs') }} as inputs
            on stored.as_of_date = inputs.as_of_date and stored.input_fingerprint != inputs.input_fingerprint
        when matched then delete
    {%- else -%}
        select 1
    {%- endif -%}
{%- endmacro %}
