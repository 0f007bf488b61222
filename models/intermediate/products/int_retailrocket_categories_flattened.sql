{#- Silver: every category of the app's category tree with its path from the root, written like a
    REES46 category code but with ids (`1101.313.570`), so both sources split into levels the same way.
    The tree is walked up to six levels; deeper categories keep their six nearest ancestors. -#}

with tree as (

    select
        category_id,
        parent_category_id
    from {{ ref('stg_retailrocket__category_tree') }}
    where quarantine_reason is null

),

one_row_per_category as (

    select
        category_id,
        max(parent_category_id) as parent_category_id
    from tree
    group by category_id

),

walked as (

    -- many-to-one at every step: one_row_per_category has one row per category_id
    select
        c0.category_id,
        concat_ws(
            '.',
            cast(c5.parent_category_id as string),
            cast(c4.parent_category_id as string),
            cast(c3.parent_category_id as string),
            cast(c2.parent_category_id as string),
            cast(c1.parent_category_id as string),
            cast(c0.parent_category_id as string),
            cast(c0.category_id as string)
        ) as category_path
    from one_row_per_category as c0
    left join one_row_per_category as c1
        on c0.parent_category_id = c1.category_id
    left join one_row_per_category as c2
        on c1.parent_category_id = c2.category_id
    left join one_row_per_category as c3
        on c2.parent_category_id = c3.category_id
    left join one_row_per_category as c4
        on c3.parent_category_id = c4.category_id
    left join one_row_per_category as c5
        on c4.parent_category_id = c5.category_id

),

final as (

    select
        category_id,
        category_path,
        size(split(category_path, '[.]')) as category_depth
    from walked

)

select * from final
