{{ config(materialized='incremental', incremental_strategy='append', on_schema_change='fail') }}
{%- set max_pairs = var('drift_profile_max_pairs') | int %}
{#- The drift check's reference: per model version that scored and key feature, the deciles of its training
    values and the share of them in each bucket (nulls bucket -1), both of the pairs the drawn rows stand
    for. A version is profiled once, when it first scores; above var `drift_profile_max_pairs` pairs (0 = no
    cap), on the draw training samples with (the same pair-key hash), so the profile describes about the
    pairs the version trained on (see the yml). -#}

with features as (

    select * from {{ ref('ml_user_item_feature_snapshots') }}

),

scored_versions as (

    select distinct predictions.model_version
    from {{ ref('ml_conversion_predictions') }} as predictions
    {% if is_incremental() -%}
        where predictions.model_version not in (select profiled.model_version from {{ this }} as profiled)
    {%- endif %}

),

runs as (

    select
        training_runs.model_version,
        training_runs.train_from,
        training_runs.train_to
    from {{ ref('ml_conversion_training_runs') }} as training_runs
    where training_runs.model_version in (select scored_versions.model_version from scored_versions)

),

training_pairs as (

    -- only the snapshots some run trained on (the mart is partitioned or clustered by as_of_date), each
    -- pair with its bucket of the draw (0 to 999,999)
    select
        features.*,
        pmod(xxhash64(features.as_of_date, features.user_id, features.product_id, 7), 1000000) as pair_bucket
    from features
    where
        features.as_of_date >= (select min(runs.train_from) from runs)
        and features.as_of_date <= (select max(runs.train_to) from runs)

),

run_draws as (

    -- per run, the buckets its profile keeps: all of them up to the cap, else a share giving about the cap
    select
        runs.model_version,
        runs.train_from,
        runs.train_to,
        count(*) as training_pairs,
        case
            when {{ max_pairs }} > 0 and count(*) > {{ max_pairs }}
                then cast(1000000 * ({{ max_pairs }} / count(*)) as bigint) + 1
            else 1000000
        end as kept_buckets
    from runs
    inner join training_pairs
        on training_pairs.as_of_date between runs.train_from and runs.train_to
    group by runs.model_version, runs.train_from, runs.train_to

),

long_values as (

    select
        training_pairs.pair_bucket,
        -- the candidate pairs the row stands for: a whole number (the draw's moduli are powers of two)
        cast(round(1 / coalesce(training_pairs.draw_share, 1)) as bigint) as pairs,
        {{ drift_feature_values('training_pairs') }}
    from training_pairs
    where training_pairs.pair_bucket < (select max(run_draws.kept_buckets) from run_draws)

),

training_values as (

    select
        run_draws.model_version,
        long_values.feature_name,
        long_values.feature_value,
        long_values.pairs
    from long_values
    -- one row per (run, value): a value belongs to each run whose training window holds its snapshot and
    -- whose draw holds its pair
    inner join run_draws
        on
            long_values.as_of_date between run_draws.train_from and run_draws.train_to
            and long_values.pair_bucket < run_draws.kept_buckets

),

edges as (

    select
        model_version,
        feature_name,
        -- the deciles of the pairs the rows stand for: percentile's frequency argument weighs each value
        -- (nulls are left out, as by every percentile)
        percentile(feature_value, array(0.1, 0.2, 0.3, 0.4, 0.5, 0.6, 0.7, 0.8, 0.9), pairs) as decile_edges
    from training_values
    group by model_version, feature_name

),

bucketed as (

    -- (edges is a row per feature: broadcast, not a shuffle of every value; the plan cannot know its size)
    select /*+ broadcast(edges) */
        training_values.model_version,
        training_values.feature_name,
        training_values.pairs,
        edges.decile_edges,
        {{ decile_bucket('training_values.feature_value', 'edges.decile_edges') }} as bucket
    from training_values
    -- many-to-one: edges has one row per (model_version, feature_name)
    inner join edges
        on
            training_values.model_version = edges.model_version
            and training_values.feature_name = edges.feature_name

),

bucket_counts as (

    -- one aggregate per feature counts every bucket (-1 to 9), so a bucket no training value fell in still
    -- gets its row, and the deciles are computed once (a second consumer of edges computed them again)
    select
        model_version,
        feature_name,
        any_value(decile_edges) as decile_edges,
        count(*) as training_values,
        sum(pairs) as training_values_represented,
        array(
            {%- for bucket in range(-1, 10) %}
                sum(case when bucket = {{ bucket }} then pairs else 0 end){{ ',' if not loop.last }}
            {%- endfor %}
        ) as bucket_values
    from bucketed
    group by model_version, feature_name

),

all_buckets as (

    select
        model_version,
        feature_name,
        decile_edges,
        training_values,
        training_values_represented,
        posexplode(bucket_values) as (bucket_position, bucket_count)
    from bucket_counts

),

final as (

    select
        all_buckets.model_version,
        all_buckets.feature_name,
        -- position 0 holds bucket -1 (the nulls)
        all_buckets.bucket_position - 1 as bucket,
        all_buckets.decile_edges,
        all_buckets.training_values,
        all_buckets.bucket_count / all_buckets.training_values_represented as training_share,
        run_draws.training_pairs
    from all_buckets
    -- one draw per version
    inner join run_draws
        on all_buckets.model_version = run_draws.model_version

)

select * from final
