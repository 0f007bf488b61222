{#-
    The feature mart's features for a set of snapshots, shared by the drawn mart
    (ml_user_item_feature_snapshots) and the latest snapshots whole (ml_user_item_latest_features).

    `user_item_snapshot_features(max_pairs, max_converters)` writes the CTEs from `daily_pairs` to
    `computed` (a leading comma, so it follows the caller's CTEs). The caller defines:
    * `daily`: ml_user_item_daily;
    * `source_bounds` (or the CTE named by `bounds`): each source's snapshot range to compute;
    * `snapshots`: the snapshot dates computed, with their `input_fingerprint` (and, when drawn, their
      `is_label_complete`);
    * `first_computed`: per source, its first computed snapshot (a source without one is not read).

    With `max_pairs` above 0 a snapshot is drawn by user before its features are computed, in two strata. The
    converters (the users with a purchase in the snapshot's label window, ml_user_item_labels, once that
    window has closed) are all kept while the snapshot's bought pairs are at most `max_converters`, else those
    whose hash of (as_of_date, user_id) is 0 modulo the smallest power of two leaving at most that many bought
    pairs on average. The other users are drawn by the same hash modulo the power of two leaving at most
    `max_pairs` candidate pairs; a converter's modulus is never above the others' (the smaller of the two). A
    drawn user comes with all of its pairs, so the user features are exact; the product and category features
    count every pair, drawn or not; `draw_share` is one over the user's modulus, the weight that turns the
    draw back into the snapshot. The draw is a case-control design: it keeps the rare buyers that training and
    validation learn from and a share of the rest, at a cost set by the two caps rather than by the snapshot's
    size.

    The CTEs with a row per source or per snapshot (`source_bounds`, `first_computed`, `snapshots`, `draws`,
    `converter_draws`) are joined with a broadcast hint: the planner cannot size them, and a shuffle join on
    their keys would put every row of a snapshot, or of a source, in one task.
-#}

{% macro user_item_snapshot_features(max_pairs, max_converters=0, bounds='source_bounds') -%}
    {%- set lookback = var('feature_lookback_days') | int -%}
    {%- set max_pairs = max_pairs | int -%}
    {%- set max_converters = max_converters | int -%}
,

daily_pairs as (

    -- the (user, product, day) rows the computed snapshots' lookback windows need
    select daily.*
    from daily
    where daily.event_date >= (select date_sub(min(snapshots.as_of_date), {{ lookback }}) from snapshots)

),

pair_days as (

    -- each pair day with the computed snapshots its window reaches: of the {{ lookback }} days after it,
    -- those from its source's first computed snapshot to its last snapshot
    select /*+ broadcast(source_bounds, first_computed) */
        daily_pairs.*,
        greatest(
            date_add(daily_pairs.event_date, 1),
            first_computed.first_snapshot_computed,
            source_bounds.first_snapshot
        ) as first_reached,
        least(date_add(daily_pairs.event_date, {{ lookback }}), source_bounds.last_snapshot) as last_reached
    from daily_pairs
    -- many-to-one: one row per source in each
    inner join {{ bounds }} as source_bounds
        on daily_pairs.source_system = source_bounds.source_system
    inner join first_computed
        on daily_pairs.source_system = first_computed.source_system
    -- the day reaches a computed snapshot (a day that reaches none is no pair's latest active day before one)
    where
        greatest(
            date_add(daily_pairs.event_date, 1),
            first_computed.first_snapshot_computed,
            source_bounds.first_snapshot
        )
        <= least(date_add(daily_pairs.event_date, {{ lookback }}), source_bounds.last_snapshot)

),

pair_day_ends as (

    -- the snapshots a pair day is the pair's latest active day for: those it reaches up to and including the
    -- pair's next active day (the one shuffle by pair; the other consumers of pair_days need none)
    select
        pair_days.source_system,
        pair_days.product_id,
        pair_days.first_reached,
        least(
            pair_days.last_reached,
            coalesce(
                lead(pair_days.event_date) over (
                    partition by pair_days.user_id, pair_days.product_id order by pair_days.event_date
                ),
                pair_days.last_reached
            )
        ) as last_owned
    from pair_days

),

pair_spans as (

    -- each pair once per snapshot it is a candidate in (the snapshot belongs to the pair's latest active day
    -- before it); consumers aggregate it by snapshot without a shuffle of the pairs
    select
        pair_day_ends.source_system,
        pair_day_ends.product_id,
        explode(sequence(pair_day_ends.first_reached, pair_day_ends.last_owned, interval 1 day)) as as_of_date
    from pair_day_ends
    where pair_day_ends.first_reached <= pair_day_ends.last_owned

),

product_users as (

    select
        pair_spans.as_of_date,
        pair_spans.product_id,
        count(*) as product_users_30d
    from pair_spans
    group by pair_spans.as_of_date, pair_spans.product_id

),

draws as (

    -- per computed snapshot and source: its candidate pairs and the modulus of its draw (1: every pair)
    select /*+ broadcast(snapshots) */
        pair_spans.as_of_date,
        pair_spans.source_system,
        count(*) as snapshot_pairs,
        {{ snapshot_draw_modulus('count(*)', max_pairs) }} as draw_modulus
    from pair_spans
    inner join snapshots
        on pair_spans.as_of_date = snapshots.as_of_date
    group by pair_spans.as_of_date, pair_spans.source_system

),

pair_day_snapshots as (

    -- fan-out by design: each pair day goes to every computed snapshot its lookback window reaches;
    -- pair_features restores the grain. An equi-join on the exploded dates instead of a range join against
    -- the snapshot list
    select
        pair_days.*,
        explode(sequence(pair_days.first_reached, pair_days.last_reached, interval 1 day)) as as_of_date
    from pair_days

),

{% if max_pairs > 0 -%}
converters as (

    -- per computed label-complete snapshot, the users who buy within its label window and how many pairs
    -- each buys. A snapshot whose window is still open has no converters' stratum: its draw must not change
    -- with each new day of purchases, or every open snapshot would be drawn again every day
    select /*+ broadcast(snapshots) */
        labels.as_of_date,
        labels.user_id,
        count(*) as bought_pairs
    from {{ ref('ml_user_item_labels') }} as labels
    inner join snapshots
        on
            labels.as_of_date = snapshots.as_of_date
            and snapshots.is_label_complete
    group by labels.as_of_date, labels.user_id

),

converter_draws as (

    -- per computed snapshot with converters: its bought pairs and the modulus of the converters' draw
    select
        converters.as_of_date,
        {{ snapshot_draw_modulus('sum(converters.bought_pairs)', max_converters) }} as converter_modulus
    from converters
    group by converters.as_of_date

),

drawn_others as (

    -- the days of the users the snapshot's draw holds (converters among them are dropped in pair_history:
    -- they are drawn in their own stratum)
    select /*+ broadcast(draws) */
        exploded.*,
        draws.draw_modulus as user_modulus
    from pair_day_snapshots as exploded
    -- many-to-one: one draw per (snapshot, source)
    inner join draws
        on
            exploded.as_of_date = draws.as_of_date
            and exploded.source_system = draws.source_system
    where {{ is_drawn_user('exploded.as_of_date', 'exploded.user_id', 'draws.draw_modulus') }}

),

converter_pair_days as (

    -- the pair days of the users who convert in some computed snapshot: the converters' stratum is drawn
    -- from these only, not from every exploded pair day
    select pair_days.*
    from pair_days
    left semi join (select distinct converters.user_id from converters) as converting_users
        on pair_days.user_id = converting_users.user_id

),

drawn_converters as (

    -- fan-out by design, as pair_day_snapshots: the converters' days in the snapshots they convert in and
    -- that draw them. A converter is drawn at least as often as the other users of its snapshot (the
    -- smaller of the two moduli; both are powers of two, so a user the others' draw holds is held here too)
    select /*+ broadcast(converter_draws, draws) */
        exploded.*,
        least(converter_draws.converter_modulus, draws.draw_modulus) as user_modulus
    from (
        select
            converter_pair_days.*,
            explode(
                sequence(converter_pair_days.first_reached, converter_pair_days.last_reached, interval 1 day)
            ) as as_of_date
        from converter_pair_days
    ) as exploded
    -- many-to-one: converters has one row per (as_of_date, user_id)
    inner join converters
        on
            exploded.as_of_date = converters.as_of_date
            and exploded.user_id = converters.user_id
    -- many-to-one: one draw per snapshot, and one per (snapshot, source)
    inner join converter_draws
        on exploded.as_of_date = converter_draws.as_of_date
    inner join draws
        on
            exploded.as_of_date = draws.as_of_date
            and exploded.source_system = draws.source_system
    where
        {{ is_drawn_user(
            'exploded.as_of_date',
            'exploded.user_id',
            'least(converter_draws.converter_modulus, draws.draw_modulus)'
        ) }}

),

pair_history as (

    -- the drawn users' pair days per snapshot, each user in its stratum: the others' draw without the
    -- snapshot's converters, then the converters'
    select drawn_others.*
    from drawn_others
    left anti join converters
        on
            drawn_others.as_of_date = converters.as_of_date
            and drawn_others.user_id = converters.user_id
    union all
    select drawn_converters.*
    from drawn_converters

),
{%- else %}
pair_history as (

    -- every user of every computed snapshot
    select
        pair_day_snapshots.*,
        cast(1 as bigint) as user_modulus
    from pair_day_snapshots

),
{%- endif %}

pair_features as (

    -- the one pass over the fan-out; the user and category aggregates below are computed from this pair
    -- grain (a pair counts in the top-level category of its latest interaction)
    select /*+ broadcast(snapshots) */
        pair_history.as_of_date,
        pair_history.user_id,
        pair_history.product_id,
        max(pair_history.source_system) as source_system,
        sum(pair_history.interaction_score) as interaction_score,
        max(pair_history.funnel_stage) as funnel_depth,
        sum(pair_history.views) as views_30d,
        sum(
            case when datediff(pair_history.as_of_date, pair_history.event_date) <= 7 then pair_history.views else 0 end
        ) as views_7d,
        sum(
            case when datediff(pair_history.as_of_date, pair_history.event_date) = 1 then pair_history.views else 0 end
        ) as views_1d,
        sum(pair_history.carts) as carts_30d,
        sum(pair_history.removes) as removes_30d,
        sum(pair_history.purchases) as purchases_30d,
        sum(pair_history.sessions) as sessions_with_item_30d,
        min(datediff(pair_history.as_of_date, pair_history.event_date)) as days_since_last_interaction,
        count(*) as active_days_30d,
        (unix_timestamp(cast(pair_history.as_of_date as timestamp)) - unix_timestamp(max(pair_history.last_view_at)))
        / 3600.0 as hours_since_last_view,
        max(pair_history.last_event_at) as last_event_at,
        max_by(pair_history.category_key, pair_history.last_event_at) as category_key,
        -- the same for every row of a user in a snapshot
        max(pair_history.user_modulus) as user_modulus
    from pair_history
    inner join snapshots
        on pair_history.as_of_date = snapshots.as_of_date
    group by pair_history.as_of_date, pair_history.user_id, pair_history.product_id

),

pair_scopes as (

    -- the user and user-category aggregates as windows over the one pair stream: both partitionings share
    -- one shuffle on (as_of_date, user_id), where separate group-bys joined back would shuffle it again
    select
        pair_features.*,
        sum(pair_features.views_30d) over by_user as user_views_30d,
        sum(pair_features.carts_30d) over by_user as user_carts_30d,
        sum(pair_features.purchases_30d) over by_user as user_purchases_30d,
        count(*) over by_user as user_products_30d,
        sum(pair_features.views_30d) over (
            partition by pair_features.as_of_date, pair_features.user_id, pair_features.category_key
        ) as user_category_views_30d
    from pair_features
    window by_user as (partition by pair_features.as_of_date, pair_features.user_id)

),

product_days as (

    -- one row per (product, day): every user's pairs, drawn or not
    select
        pair_days.event_date,
        pair_days.product_id,
        min(pair_days.first_reached) as first_reached,
        max(pair_days.last_reached) as last_reached,
        sum(pair_days.views) as views,
        sum(pair_days.purchases) as purchases,
        max(pair_days.last_event_at) as last_event_at,
        max_by(pair_days.last_price, pair_days.last_event_at) as last_price,
        max_by(pair_days.category_key, pair_days.last_event_at) as category_key
    from pair_days
    group by pair_days.event_date, pair_days.product_id

),

product_features as (

    -- fan-out by design, as pair_day_snapshots but per product day; the group by restores the snapshot grain
    select /*+ broadcast(snapshots) */
        exploded.as_of_date,
        exploded.product_id,
        max_by(exploded.category_key, exploded.last_event_at) as category_key,
        sum(exploded.views) as product_views_30d,
        sum(exploded.purchases) as product_purchases_30d,
        -- the product's price at its latest event before the snapshot
        max_by(exploded.last_price, exploded.last_event_at) as product_price
    from (
        select
            product_days.*,
            explode(sequence(product_days.first_reached, product_days.last_reached, interval 1 day)) as as_of_date
        from product_days
    ) as exploded
    inner join snapshots
        on exploded.as_of_date = snapshots.as_of_date
    group by exploded.as_of_date, exploded.product_id

),

category_prices as (

    select
        as_of_date,
        category_key,
        percentile_approx(product_price, 0.5) as category_median_price
    from product_features
    group by as_of_date, category_key

),

computed as (

    select /*+ broadcast(draws, snapshots) */
        pair_scopes.as_of_date,
        pair_scopes.user_id,
        pair_scopes.product_id,
        pair_scopes.source_system,
        pair_scopes.interaction_score,
        pair_scopes.funnel_depth,
        case
            when pair_scopes.interaction_score >= {{ var('engagement_high_min', 8) }} then 3
            when pair_scopes.interaction_score >= {{ var('engagement_medium_min', 3) }} then 2
            when pair_scopes.interaction_score >= 1 then 1
            else 0
        end as engagement_score,
        pair_scopes.views_30d,
        pair_scopes.views_7d,
        pair_scopes.views_1d,
        pair_scopes.carts_30d,
        pair_scopes.removes_30d,
        pair_scopes.purchases_30d,
        pair_scopes.sessions_with_item_30d,
        pair_scopes.days_since_last_interaction,
        pair_scopes.active_days_30d,
        pair_scopes.hours_since_last_view,
        hour(pair_scopes.last_event_at) as last_interaction_hour,
        weekday(pair_scopes.as_of_date) + 1 as as_of_weekday,
        pair_scopes.user_category_views_30d,
        pair_scopes.user_category_views_30d
        / nullif(pair_scopes.user_views_30d, 0) as user_category_share_30d,
        product_features.product_price / nullif(category_prices.category_median_price, 0)
            as price_to_category_median,
        pair_scopes.user_views_30d,
        pair_scopes.user_carts_30d,
        pair_scopes.user_purchases_30d,
        pair_scopes.user_products_30d,
        pair_scopes.user_purchases_30d / nullif(pair_scopes.user_views_30d, 0) as user_conversion_rate_30d,
        product_users.product_users_30d,
        product_features.product_views_30d,
        product_features.product_purchases_30d,
        product_features.product_purchases_30d
        / nullif(product_features.product_views_30d, 0) as product_conversion_rate_30d,
        draws.snapshot_pairs,
        cast(1 as double) / pair_scopes.user_modulus as draw_share,
        snapshots.input_fingerprint
    from pair_scopes
    -- each join below is many-to-one on the snapshot grain: no fan-out
    inner join product_features
        on
            pair_scopes.as_of_date = product_features.as_of_date
            and pair_scopes.product_id = product_features.product_id
    inner join product_users
        on
            pair_scopes.as_of_date = product_users.as_of_date
            and pair_scopes.product_id = product_users.product_id
    inner join category_prices
        on
            product_features.as_of_date = category_prices.as_of_date
            and product_features.category_key = category_prices.category_key
    inner join draws
        on
            pair_scopes.as_of_date = draws.as_of_date
            and pair_scopes.source_system = draws.source_system
    inner join snapshots
        on pair_scopes.as_of_date = snapshots.as_of_date

)
{%- endmacro %}


{#- The draw's modulus of a snapshot with `pairs` candidate pairs: 1 up to `max_pairs` (or when it is 0),
    else the smallest power of two at least ceil(pairs / max_pairs), in integers (2 to the bit length of
    that ceiling - 1). -#}
{% macro snapshot_draw_modulus(pairs, max_pairs) -%}
    {%- set max_pairs = max_pairs | int -%}
    {%- if max_pairs > 0 -%}
        case
            when {{ pairs }} <= {{ max_pairs }} then cast(1 as bigint)
            else shiftleft(cast(1 as bigint), length(bin(({{ pairs }} + {{ max_pairs - 1 }}) div {{ max_pairs }} - 1)))
        end
    {%- else -%}
        cast(1 as bigint)
    {%- endif -%}
{%- endmacro %}


{#- The draw's rule, in one place for the mart's computed snapshots and its latest ones: a user is drawn
    in a snapshot when the hash of (as_of_date, user_id) is 0 modulo the snapshot's `modulus`. -#}
{% macro is_drawn_user(as_of_date, user_id, modulus) -%}
    pmod(xxhash64({{ as_of_date }}, {{ user_id }}), {{ modulus }}) = 0
{%- endmacro %}


{#- The select list that turns a row of ml_user_item_latest_features (`alias`) into a row of the drawn
    mart: the mart's columns in its yml's order (a test holds them to the table's), `draw_share` that of
    the snapshot's draw. Read from the graph; where there is none (while dbt parses, in a unit test, whose
    fixture for this input has no rows) the alias's own columns stand in. -#}
{% macro latest_snapshot_drawn_columns(alias, max_pairs) -%}
    {%- set nodes = graph.get('nodes', {}) if execute else {} -%}
    {%- set node = nodes.get('model.' ~ project_name ~ '.ml_user_item_feature_snapshots') -%}
    {%- if node is none -%}
        {{ alias }}.*
    {%- else -%}
        {%- set items = [] -%}
        {%- for name in node.columns -%}
            {%- if name == 'draw_share' -%}
                {%- do items.append(
                    'cast(1 as double) / ' ~ snapshot_draw_modulus(alias ~ '.snapshot_pairs', max_pairs) ~ ' as draw_share'
                ) -%}
            {%- else -%}
                {%- do items.append(alias ~ '.' ~ name) -%}
            {%- endif -%}
        {%- endfor -%}
        {{ items | join(', ') }}
    {%- endif -%}
{%- endmacro %}
