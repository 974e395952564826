<?php
/**
 * Privacy: the personal-data exporter and eraser for the plugin's own data, and the text it
 * suggests for the site's privacy policy.
 *
 * What the plugin keeps about a customer: captured carts (phone, name, cart lines; the
 * e-mail only as a SHA-256 to find them for a request like this), queued and sent events
 * (the wire event, emptied once the relay has it), and on a customer account their current
 * SMS-marketing choice and the wording they agreed to. A request is matched by the e-mail
 * address (its hash) and, for a customer account, by its billing phone.
 *
 * Events still waiting for the relay are kept by the eraser (reported as retained): they are
 * consent records or withdrawals the relay must receive; they are emptied once sent.
 *
 * This program is free software; you can redistribute it and/or modify it under the terms of
 * the GNU General Public License as published by the Free Software Foundation; either version
 * 2 of the License, or (at your option) any later version.
 *
 * @package RelaySms
 */

defined( 'ABSPATH' ) || exit;

/**
 * Exporter, eraser, policy text.
 */
class Relay_SMS_Privacy {

	/**
	 * Hooks.
	 */
	public static function init() {
		add_filter( 'wp_privacy_personal_data_exporters', array( __CLASS__, 'register_exporter' ) );
		add_filter( 'wp_privacy_personal_data_erasers', array( __CLASS__, 'register_eraser' ) );
		add_action( 'admin_init', array( __CLASS__, 'policy' ) );
	}

	/**
	 * A phone's lookup key: its last nine digits (the same number typed with or without the
	 * country code matches).
	 *
	 * @param string $phone As typed.
	 * @return string
	 */
	public static function phone_key( $phone ) {
		$digits = preg_replace( '/\D+/', '', (string) $phone );
		return strlen( $digits ) >= 7 ? substr( $digits, -9 ) : '';
	}

	/**
	 * An e-mail's lookup key (SHA-256 of the trimmed, lower-cased address; '' for none).
	 *
	 * @param string $email Address.
	 * @return string
	 */
	public static function email_hash( $email ) {
		$email = strtolower( trim( (string) $email ) );
		return '' === $email ? '' : hash( 'sha256', $email );
	}

	/**
	 * Register the exporter.
	 *
	 * @param array $exporters Exporters.
	 * @return array
	 */
	public static function register_exporter( $exporters ) {
		$exporters['relay-sms'] = array(
			'exporter_friendly_name' => __( 'Relay SMS', 'relay-sms' ),
			'callback'               => array( __CLASS__, 'export' ),
		);
		return $exporters;
	}

	/**
	 * Register the eraser.
	 *
	 * @param array $erasers Erasers.
	 * @return array
	 */
	public static function register_eraser( $erasers ) {
		$erasers['relay-sms'] = array(
			'eraser_friendly_name' => __( 'Relay SMS', 'relay-sms' ),
			'callback'             => array( __CLASS__, 'erase' ),
		);
		return $erasers;
	}

	/**
	 * The WHERE clause for one person: e-mail hash, or a billing phone of their account.
	 *
	 * @param string $email Address.
	 * @return array{0:string, 1:array, 2:WP_User|false}
	 */
	private static function who( $email ) {
		$user  = get_user_by( 'email', $email );
		$where = array( 'email_hash = %s' );
		$args  = array( self::email_hash( $email ) );
		if ( $user ) {
			$key = self::phone_key( get_user_meta( $user->ID, 'billing_phone', true ) );
			if ( '' !== $key ) {
				$where[] = 'phone_key = %s';
				$args[]  = $key;
			}
		}
		return array( '(' . implode( ' OR ', $where ) . ')', $args, $user );
	}

	/**
	 * Export one person's data (one page holds everything: carts are few per person).
	 *
	 * @param string $email Address.
	 * @param int    $page  Page.
	 * @return array
	 */
	public static function export( $email, $page = 1 ) {
		global $wpdb;
		list( $where, $args, $user ) = self::who( $email );
		$items                       = array();
		// phpcs:ignore WordPress.DB.DirectDatabaseQuery, WordPress.DB.PreparedSQL.NotPrepared -- our own tables; $where holds placeholders only.
		$carts = $wpdb->get_results( $wpdb->prepare( 'SELECT cart_id, phone, name, items, total, currency, status, consent, updated_at FROM ' . Relay_SMS_Carts::table() . ' WHERE ' . $where, $args ), ARRAY_A );
		foreach ( $carts as $cart ) {
			$items[] = array(
				'group_id'    => 'relay-sms-carts',
				'group_label' => __( 'Relay SMS: saved carts', 'relay-sms' ),
				'item_id'     => 'relay-sms-cart-' . $cart['cart_id'],
				'data'        => array(
					array( 'name' => __( 'Phone', 'relay-sms' ), 'value' => $cart['phone'] ),
					array( 'name' => __( 'Name', 'relay-sms' ), 'value' => $cart['name'] ),
					array( 'name' => __( 'Cart', 'relay-sms' ), 'value' => $cart['items'] ),
					array( 'name' => __( 'Total', 'relay-sms' ), 'value' => $cart['total'] . ' ' . $cart['currency'] ),
					array( 'name' => __( 'Status', 'relay-sms' ), 'value' => $cart['status'] ),
					array( 'name' => __( 'SMS consent', 'relay-sms' ), 'value' => $cart['consent'] ? __( 'yes', 'relay-sms' ) : __( 'no', 'relay-sms' ) ),
					array( 'name' => __( 'Last change', 'relay-sms' ), 'value' => gmdate( 'c', (int) $cart['updated_at'] ) ),
				),
			);
		}
		// phpcs:ignore WordPress.DB.DirectDatabaseQuery, WordPress.DB.PreparedSQL.NotPrepared -- our own tables; $where holds placeholders only.
		$events = $wpdb->get_results( $wpdb->prepare( 'SELECT id, event_id, type, status, body, created_at FROM ' . Relay_SMS_Queue::table() . ' WHERE ' . $where, $args ), ARRAY_A );
		foreach ( $events as $event ) {
			$items[] = array(
				'group_id'    => 'relay-sms-events',
				'group_label' => __( 'Relay SMS: events for the SMS relay', 'relay-sms' ),
				'item_id'     => 'relay-sms-event-' . $event['id'],
				'data'        => array(
					array( 'name' => __( 'Event', 'relay-sms' ), 'value' => $event['type'] . ' (' . $event['event_id'] . ')' ),
					array( 'name' => __( 'Status', 'relay-sms' ), 'value' => $event['status'] ),
					array( 'name' => __( 'Created', 'relay-sms' ), 'value' => gmdate( 'c', (int) $event['created_at'] ) ),
					array( 'name' => __( 'Data', 'relay-sms' ), 'value' => '' === $event['body'] ? __( 'delivered to the relay; not kept here', 'relay-sms' ) : $event['body'] ),
				),
			);
		}
		if ( $user ) {
			$state = get_user_meta( $user->ID, Relay_SMS_Checkout::USER_META_STATE, true );
			if ( '' !== $state ) {
				$items[] = array(
					'group_id'    => 'relay-sms-consent',
					'group_label' => __( 'Relay SMS: SMS-marketing consent', 'relay-sms' ),
					'item_id'     => 'relay-sms-consent-' . $user->ID,
					'data'        => array(
						array( 'name' => __( 'Agreed to marketing SMS', 'relay-sms' ), 'value' => 'yes' === $state ? __( 'yes', 'relay-sms' ) : __( 'no', 'relay-sms' ) ),
						array( 'name' => __( 'Wording', 'relay-sms' ), 'value' => (string) get_user_meta( $user->ID, Relay_SMS_Checkout::USER_META_WORDING, true ) ),
					),
				);
			}
		}
		return array(
			'data' => $items,
			'done' => true,
		);
	}

	/**
	 * Erase one person's data: carts, delivered or ended events, the account's consent state.
	 * Events still waiting for the relay are retained (see the file comment).
	 *
	 * @param string $email Address.
	 * @param int    $page  Page.
	 * @return array
	 */
	public static function erase( $email, $page = 1 ) {
		global $wpdb;
		list( $where, $args, $user ) = self::who( $email );
		// phpcs:ignore WordPress.DB.DirectDatabaseQuery, WordPress.DB.PreparedSQL.NotPrepared -- our own tables; $where holds placeholders only.
		$removed = (int) $wpdb->query( $wpdb->prepare( 'DELETE FROM ' . Relay_SMS_Carts::table() . ' WHERE ' . $where, $args ) );
		// phpcs:ignore WordPress.DB.DirectDatabaseQuery, WordPress.DB.PreparedSQL.NotPrepared -- our own tables; $where holds placeholders only.
		$removed += (int) $wpdb->query( $wpdb->prepare( 'DELETE FROM ' . Relay_SMS_Queue::table() . ' WHERE status <> %s AND ' . $where, array_merge( array( Relay_SMS_Queue::QUEUED ), $args ) ) );
		// phpcs:ignore WordPress.DB.DirectDatabaseQuery, WordPress.DB.PreparedSQL.NotPrepared -- our own tables; $where holds placeholders only.
		$retained = (int) $wpdb->get_var( $wpdb->prepare( 'SELECT COUNT(*) FROM ' . Relay_SMS_Queue::table() . ' WHERE status = %s AND ' . $where, array_merge( array( Relay_SMS_Queue::QUEUED ), $args ) ) );
		if ( $user ) {
			foreach ( array( Relay_SMS_Checkout::USER_META_STATE, Relay_SMS_Checkout::USER_META_WORDING ) as $meta ) {
				if ( delete_user_meta( $user->ID, $meta ) ) {
					++$removed;
				}
			}
		}
		$messages = array();
		if ( $retained > 0 ) {
			/* translators: %d: number of events. */
			$messages[] = sprintf( _n( 'Relay SMS kept %d consent or cart event that the SMS relay has not received yet; it is emptied once delivered. Ask the relay operator to erase the data held there.', 'Relay SMS kept %d consent or cart events that the SMS relay has not received yet; they are emptied once delivered. Ask the relay operator to erase the data held there.', $retained, 'relay-sms' ), $retained );
		}
		return array(
			'items_removed'  => $removed > 0,
			'items_retained' => $retained > 0,
			'messages'       => $messages,
			'done'           => true,
		);
	}

	/**
	 * The suggested privacy-policy text (Settings → Privacy).
	 */
	public static function policy() {
		if ( ! function_exists( 'wp_add_privacy_policy_content' ) ) {
			return;
		}
		$text  = '<p class="privacy-policy-tutorial">' . esc_html__( 'Relay SMS sends data to the SMS relay configured in WooCommerce → Relay SMS. Adapt this text to your relay operator and your legal basis.', 'relay-sms' ) . '</p>';
		$text .= '<strong class="privacy-policy-tutorial">' . esc_html__( 'Suggested text:', 'relay-sms' ) . '</strong> ';
		$text .= '<p>' . esc_html__( 'At checkout you can agree to receive SMS about our discounts and offers. When you do, we send your phone number, the exact wording you agreed to, the time, your IP address and your browser to our SMS service provider, which keeps it as a record of your consent. You can withdraw at any time by replying STOP or by unticking the box at your next checkout.', 'relay-sms' ) . '</p>';
		if ( 'transactional' === Relay_SMS_Settings::get()['cart_mode'] ) {
			$text .= '<p>' . esc_html__( 'If you type your phone number at checkout and leave without ordering, we keep your phone number, name and cart for up to 30 days and may send you one service reminder about that cart with a link back to it; the link expires after 7 days.', 'relay-sms' ) . '</p>';
		} else {
			$text .= '<p>' . esc_html__( 'If you agreed to SMS and leave the checkout without ordering, we keep your phone number, name and cart for up to 30 days and may send you one reminder with a link back to your cart; the link expires after 7 days. Without your agreement we do not keep the phone number you typed.', 'relay-sms' ) . '</p>';
		}
		wp_add_privacy_policy_content( __( 'Relay SMS', 'relay-sms' ), wp_kses_post( wpautop( $text, false ) ) );
	}
}
