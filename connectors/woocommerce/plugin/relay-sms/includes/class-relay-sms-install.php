<?php
/**
 * Activation, upgrades and deactivation.
 *
 * Activation creates the two tables ({prefix}relay_sms_carts, {prefix}relay_sms_queue),
 * moves 1.0.0's outbox option into the queue, schedules the sweep and gives every queued
 * event its send action back. An update of the plugin files (no activation) is caught on
 * `init` by the stored schema version. Deactivation unschedules the jobs and keeps the data;
 * uninstall.php removes it.
 *
 * This program is free software; you can redistribute it and/or modify it under the terms of
 * the GNU General Public License as published by the Free Software Foundation; either version
 * 2 of the License, or (at your option) any later version.
 *
 * @package RelaySms
 */

defined( 'ABSPATH' ) || exit;

/**
 * Install and upgrade.
 */
class Relay_SMS_Install {

	const DB_VERSION        = '2';
	const DB_VERSION_OPTION = 'relay_sms_db_version';

	/**
	 * Hooks.
	 */
	public static function init() {
		add_action( 'init', array( __CLASS__, 'maybe_upgrade' ), 5 );
	}

	/**
	 * Activation hook.
	 */
	public static function activate() {
		self::tables();
		Relay_SMS_Queue::migrate_outbox();
		Relay_SMS_Jobs::ensure();
		Relay_SMS_Queue::reconcile( true );
	}

	/**
	 * Deactivation hook: no job runs while the plugin is off.
	 */
	public static function deactivate() {
		Relay_SMS_Jobs::clear();
	}

	/**
	 * Files updated without an activation: bring the tables up to date.
	 */
	public static function maybe_upgrade() {
		if ( self::DB_VERSION !== get_option( self::DB_VERSION_OPTION ) ) {
			self::tables();
			Relay_SMS_Queue::migrate_outbox();
		}
	}

	/**
	 * Create or update the tables; 1.0.0 kept customers' e-mails in plain text: drop them.
	 */
	public static function tables() {
		global $wpdb;
		require_once ABSPATH . 'wp-admin/includes/upgrade.php';
		$charset = $wpdb->get_charset_collate();
		dbDelta( Relay_SMS_Carts::schema( $charset ) );
		dbDelta( Relay_SMS_Queue::schema( $charset ) );
		// phpcs:ignore WordPress.DB.DirectDatabaseQuery, WordPress.DB.PreparedSQL.NotPrepared -- our own table.
		if ( $wpdb->get_var( $wpdb->prepare( 'SHOW COLUMNS FROM ' . Relay_SMS_Carts::table() . ' LIKE %s', 'email' ) ) ) {
			// phpcs:ignore WordPress.DB.DirectDatabaseQuery, WordPress.DB.DirectDatabaseQuery.SchemaChange, WordPress.DB.PreparedSQL.NotPrepared -- our own table.
			$wpdb->query( 'ALTER TABLE ' . Relay_SMS_Carts::table() . ' DROP COLUMN email' );
		}
		update_option( self::DB_VERSION_OPTION, self::DB_VERSION );
	}
}
