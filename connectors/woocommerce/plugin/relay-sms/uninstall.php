<?php
/**
 * Uninstall (Plugins → Delete): remove everything the plugin stored — its options and
 * transients, the carts and queue tables, its scheduled actions and WP-Cron events, and the
 * SMS-consent state it kept on customer accounts. Orders keep their `_relay_sms_*` meta: it
 * is part of the order's record of what the customer agreed to at checkout.
 *
 * This program is free software; you can redistribute it and/or modify it under the terms of
 * the GNU General Public License as published by the Free Software Foundation; either version
 * 2 of the License, or (at your option) any later version.
 *
 * @package RelaySms
 */

defined( 'WP_UNINSTALL_PLUGIN' ) || exit;

global $wpdb;

foreach ( array( 'relay_sms_settings', 'relay_sms_api_key', 'relay_sms_health', 'relay_sms_db_version', 'relay_sms_cabinet', 'relay_sms_outbox' ) as $relay_sms_option ) {
	delete_option( $relay_sms_option );
}
// Per-user "test connection" results.
// phpcs:ignore WordPress.DB.DirectDatabaseQuery -- no API deletes transients by prefix.
$wpdb->query( $wpdb->prepare( "DELETE FROM {$wpdb->options} WHERE option_name LIKE %s OR option_name LIKE %s", $wpdb->esc_like( '_transient_relay_sms_' ) . '%', $wpdb->esc_like( '_transient_timeout_relay_sms_' ) . '%' ) );

foreach ( array( 'relay_sms_carts', 'relay_sms_queue' ) as $relay_sms_table ) {
	// phpcs:ignore WordPress.DB.DirectDatabaseQuery, WordPress.DB.DirectDatabaseQuery.SchemaChange, WordPress.DB.PreparedSQL.InterpolatedNotPrepared -- our own tables.
	$wpdb->query( "DROP TABLE IF EXISTS {$wpdb->prefix}{$relay_sms_table}" );
}

foreach ( array( 'relay_sms_cart_sweep', 'relay_sms_send_event', 'relay_sms_flush_outbox' ) as $relay_sms_hook ) {
	if ( function_exists( 'as_unschedule_all_actions' ) ) {
		as_unschedule_all_actions( $relay_sms_hook );
	}
	wp_unschedule_hook( $relay_sms_hook );
}

delete_metadata( 'user', 0, 'relay_sms_marketing_consent', '', true );
delete_metadata( 'user', 0, 'relay_sms_marketing_consent_wording', '', true );
