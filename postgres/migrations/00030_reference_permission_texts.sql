-- The permission catalogue's friendly names and descriptions, worded as the
-- reference platform words them: clients show these texts and compare them.

-- +goose Up
UPDATE permissions AS p SET friendly_name = v.friendly_name, description = v.description, updated_at = now()
FROM (VALUES
    ('ROOT', 'Root Access', 'Full access to all systems and resources'),
    ('MANAGE_USERS', 'Manage Users', 'Can create, update, and delete users'),
    ('READ_USERS', 'Read Users', 'Can view user details'),
    ('MANAGE_ROLES', 'Manage Roles', 'Can create, update, and delete roles'),
    ('READ_ROLES', 'Read Roles', 'Can view role details'),
    ('MANAGE_GAMESERVERS', 'Manage Game Servers', 'Can create, update, and delete game servers'),
    ('READ_MODULES', 'Read Modules', 'Can view module details'),
    ('MANAGE_MODULES', 'Manage Modules', 'Can create, update, and delete modules'),
    ('READ_PLAYERS', 'Read Players', 'Can view player details'),
    ('MANAGE_PLAYERS', 'Manage Players', 'Can create, update, and delete players'),
    ('MANAGE_SETTINGS', 'Manage Settings', 'Can modify settings'),
    ('READ_SETTINGS', 'Read Settings', 'Can view settings'),
    ('READ_VARIABLES', 'Read Variables', 'Can view variables'),
    ('MANAGE_VARIABLES', 'Manage Variables', 'Can create, update, and delete variables'),
    ('READ_EVENTS', 'Read Events', 'Can view event details'),
    ('MANAGE_EVENTS', 'Manage Events', 'Can create, update, and delete events'),
    ('READ_ITEMS', 'Read Items', 'Can view item details'),
    ('MANAGE_ITEMS', 'Manage Items', 'Can create, update, and delete items'),
    ('READ_ENTITIES', 'Read Entities', 'Can view entity details'),
    ('MANAGE_ENTITIES', 'Manage Entities', 'Can create, update, and delete entities'),
    ('MANAGE_SHOP_LISTINGS', 'Manage Shop Listings', 'Can create, update, and delete shop listings'),
    ('MANAGE_SHOP_ORDERS', 'Manage Shop Orders', 'Can view orders not belonging to the themself and perform administrative actions on them'),
    ('VIEW_DISCORD_INFO', 'View Discord Info', 'Can view Discord guild information including channels and roles'),
    ('SEND_DISCORD_MESSAGE', 'Send Discord Messages', 'Can send messages to Discord channels')
) AS v (code, friendly_name, description)
WHERE p.code = v.code;

-- +goose Down
UPDATE permissions AS p SET friendly_name = v.friendly_name, description = v.description, updated_at = now()
FROM (VALUES
    ('ROOT', 'Root Access', 'Everything, including what no other permission grants'),
    ('MANAGE_USERS', 'Manage Users', 'Create, change and delete users'),
    ('READ_USERS', 'Read Users', 'See users'),
    ('MANAGE_ROLES', 'Manage Roles', 'Create, change, delete and assign roles'),
    ('READ_ROLES', 'Read Roles', 'See roles and their permissions'),
    ('MANAGE_GAMESERVERS', 'Manage Gameservers', 'Create, change and delete game servers and see their connection info'),
    ('READ_MODULES', 'Read Modules', 'See modules'),
    ('MANAGE_MODULES', 'Manage Modules', 'Create, change, delete and install modules'),
    ('READ_PLAYERS', 'Read Players', 'See players'),
    ('MANAGE_PLAYERS', 'Manage Players', 'Change and delete players'),
    ('MANAGE_SETTINGS', 'Manage Settings', 'Change settings'),
    ('READ_SETTINGS', 'Read Settings', 'See settings'),
    ('READ_VARIABLES', 'Read Variables', 'See variables'),
    ('MANAGE_VARIABLES', 'Manage Variables', 'Create, change and delete variables'),
    ('READ_EVENTS', 'Read Events', 'See the audit log'),
    ('MANAGE_EVENTS', 'Manage Events', 'Write to the audit log'),
    ('READ_ITEMS', 'Read Items', 'See game items'),
    ('MANAGE_ITEMS', 'Manage Items', 'Change game items'),
    ('READ_ENTITIES', 'Read Entities', 'See game entities'),
    ('MANAGE_ENTITIES', 'Manage Entities', 'Change game entities'),
    ('MANAGE_SHOP_LISTINGS', 'Manage Shop Listings', 'Create, change and delete shop listings'),
    ('MANAGE_SHOP_ORDERS', 'Manage Shop Orders', 'Handle shop orders'),
    ('VIEW_DISCORD_INFO', 'View Discord Info', 'See linked Discord information'),
    ('SEND_DISCORD_MESSAGE', 'Send Discord Message', 'Send messages to Discord')
) AS v (code, friendly_name, description)
WHERE p.code = v.code;
