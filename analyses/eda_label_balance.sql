{#- EDA: the ML label per labelled snapshot: the candidate pairs, the pairs the mart's draw keeps, and the
    share of the candidate pairs that converted (each drawn pair weighs the pairs it stands for). -#}

with features as (

    select * from {{ ref('ml_user_item_features') }}
    where is_label_complete

),

final as (

    select
        as_of_date,
        cast(sum(1 / draw_share) as bigint) as pairs,
        count(*) as drawn_pairs,
        sum(case when converted then 1 / draw_share else 0 end) / sum(1 / draw_share) as positive_rate
    from features
    group by as_of_date

)

select * from final
