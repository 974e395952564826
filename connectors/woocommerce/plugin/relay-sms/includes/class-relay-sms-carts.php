<?php
/**
 * Abandoned carts: capture (cart + phone) on the checkout page, report after the delay,
 * settle when an order is placed, restore from the reminder's link.
 *
 * Privacy first: by default a cart is kept only for a customer who ticked the SMS consent box
 * (or agreed before, on their account); without consent the phone typed is not kept at all
 * and a cart kept earlier is deleted when the box is unticked. A store may switch to
 * "transactional" reminders (every cart with a phone) where its law allows that without
 * consent. The e-mail is never kept, only its SHA-256 (to answer a privacy request).
 *
 * Capture: on the classic checkout a small script posts the phone, name and the consent box
 * to admin-ajax when the customer leaves those fields; on the block checkout the Store API
 * hook `woocommerce_store_api_cart_update_customer_from_request` sees the billing phone as
 * soon as the block sends the address (consent there is the choice on the customer's
 * account: the block's consent field only arrives with the order). Carts live in the table
 * {prefix}relay_sms_carts; the sweep job every five minutes reports the due ones and deletes
 * carts untouched for 30 days. Recovery links expire after 7 days and are refused for carts
 * already ordered.
 *
 * This program is free software; you can redistribute it and/or modify it under the terms of
 * the GNU General Public License as published by the Free Software Foundation; either version
 * 2 of the License, or (at your option) any later version.
 *
 * @package RelaySms
 */

defined( 'ABSPATH' ) || exit;

/**
 * Cart capture and reporting.
 */
class Relay_SMS_Carts {

	const SESSION_KEY = 'relay_sms_cart_id';
	const ORDER_META  = '_relay_sms_cart_id';
	const AJAX        = 'relay_sms_capture';
	const KEEP_DAYS   = 30;
	const LINK_DAYS   = 7;
	const MAX_LINES   = 100;

	/**
	 * The carts table.
	 *
	 * @return string
	 */
	public static function table() {
		global $wpdb;
		return $wpdb->prefix . 'relay_sms_carts';
	}

	/**
	 * Its schema (for dbDelta).
	 *
	 * @param string $charset Charset and collation.
	 * @return string
	 */
	public static function schema( $charset ) {
		return 'CREATE TABLE ' . self::table() . " (
			cart_id varchar(64) NOT NULL,
			phone varchar(64) NOT NULL DEFAULT '',
			phone_key varchar(16) NOT NULL DEFAULT '',
			name varchar(200) NOT NULL DEFAULT '',
			email_hash char(64) NOT NULL DEFAULT '',
			consent tinyint(1) NOT NULL DEFAULT 0,
			items longtext NOT NULL,
			contents longtext NOT NULL,
			total decimal(19,4) NOT NULL DEFAULT 0,
			currency char(3) NOT NULL DEFAULT '',
			status varchar(16) NOT NULL DEFAULT 'open',
			updated_at bigint(20) unsigned NOT NULL,
			order_id bigint(20) unsigned NULL,
			PRIMARY KEY  (cart_id),
			KEY status_updated (status,updated_at),
			KEY phone_key (phone_key),
			KEY email_hash (email_hash)
			) $charset;";
	}

	/**
	 * Hooks.
	 */
	public static function init() {
		add_action( 'wp_enqueue_scripts', array( __CLASS__, 'script' ) );
		add_action( 'wp_ajax_' . self::AJAX, array( __CLASS__, 'ajax_capture' ) );
		add_action( 'wp_ajax_nopriv_' . self::AJAX, array( __CLASS__, 'ajax_capture' ) );
		add_action( 'woocommerce_store_api_cart_update_customer_from_request', array( __CLASS__, 'block_capture' ), 10, 2 );
		add_action( 'wp_loaded', array( __CLASS__, 'restore' ) );
	}

	/**
	 * The cart id of this visitor's session (created when `create` is true).
	 *
	 * @param bool $create Create one if missing.
	 * @return string|null
	 */
	public static function session_cart_id( $create = true ) {
		if ( ! function_exists( 'WC' ) || ! WC()->session ) {
			return null;
		}
		$cart_id = WC()->session->get( self::SESSION_KEY );
		if ( ! $cart_id && $create ) {
			$cart_id = 'c-' . str_replace( '-', '', wp_generate_uuid4() );
			WC()->session->set( self::SESSION_KEY, $cart_id );
		}
		return $cart_id ? (string) $cart_id : null;
	}

	/**
	 * Classic checkout: the capture script.
	 */
	public static function script() {
		if ( ! function_exists( 'is_checkout' ) || ! is_checkout() || is_order_received_page() ) {
			return;
		}
		wp_enqueue_script( 'relay-sms-capture', plugins_url( 'assets/capture.js', RELAY_SMS_FILE ), array( 'jquery' ), RELAY_SMS_VERSION, true );
		wp_localize_script(
			'relay-sms-capture',
			'relaySmsCapture',
			array(
				'url'    => admin_url( 'admin-ajax.php' ),
				'action' => self::AJAX,
				'nonce'  => wp_create_nonce( self::AJAX ),
				'field'  => Relay_SMS_Consent::CLASSIC_FIELD,
			)
		);
	}

	/**
	 * Classic checkout: admin-ajax capture of phone, name and the consent box.
	 */
	public static function ajax_capture() {
		check_ajax_referer( self::AJAX, 'nonce' );
		$field = function ( $key, $max ) {
			// phpcs:ignore WordPress.Security.NonceVerification.Missing -- checked above.
			$value = isset( $_POST[ $key ] ) && is_string( $_POST[ $key ] ) ? wp_unslash( $_POST[ $key ] ) : ''; // phpcs:ignore WordPress.Security.ValidatedSanitizedInput.InputNotSanitized -- sanitized below after the length cut.
			return sanitize_text_field( substr( $value, 0, $max ) );
		};
		$consent = Relay_SMS_Consent::is_ticked( $field( 'consent', 8 ) ) || true === Relay_SMS_Checkout::previous();
		self::capture( $field( 'phone', 64 ), trim( $field( 'first_name', 100 ) . ' ' . $field( 'last_name', 100 ) ), $field( 'email', 254 ), $consent );
		wp_send_json_success();
	}

	/**
	 * Block checkout: the Store API updated the customer from the checkout form.
	 *
	 * @param WC_Customer     $customer Customer.
	 * @param WP_REST_Request $request  Request.
	 */
	public static function block_capture( $customer, $request ) {
		self::capture( $customer->get_billing_phone(), trim( $customer->get_billing_first_name() . ' ' . $customer->get_billing_last_name() ), $customer->get_billing_email(), true === Relay_SMS_Checkout::previous() );
	}

	/**
	 * Store (or refresh) this session's cart with the phone typed, if the customer consented
	 * (or the store reports every cart); otherwise forget this session's cart.
	 *
	 * @param string $phone   Phone.
	 * @param string $name    Name.
	 * @param string $email   E-mail (only its hash is kept).
	 * @param bool   $consent The customer agreed to marketing SMS.
	 */
	public static function capture( $phone, $name, $email, $consent ) {
		global $wpdb;
		$mode = Relay_SMS_Settings::get()['cart_mode'];
		if ( ! $consent && 'consent' === $mode ) {
			self::forget();
			return;
		}
		if ( ! Relay_SMS_Abandonment::has_phone( $phone ) || ! function_exists( 'WC' ) || ! WC()->cart || WC()->cart->is_empty() ) {
			return;
		}
		$items    = array();
		$contents = array();
		foreach ( array_slice( WC()->cart->get_cart(), 0, self::MAX_LINES ) as $line ) {
			if ( count( $items ) < 20 ) {
				$items[] = array(
					'name'     => Relay_SMS_Event_Builder::text( ( isset( $line['data'] ) && $line['data'] ) ? $line['data']->get_name() : '', 120 ),
					'quantity' => (int) $line['quantity'],
				);
			}
			$variation = array();
			foreach ( array_slice( isset( $line['variation'] ) ? (array) $line['variation'] : array(), 0, 20, true ) as $attribute => $value ) {
				$variation[ substr( sanitize_key( (string) $attribute ), 0, 64 ) ] = Relay_SMS_Event_Builder::text( sanitize_text_field( (string) $value ), 64 );
			}
			$contents[] = array(
				'product_id'   => (int) $line['product_id'],
				'variation_id' => isset( $line['variation_id'] ) ? (int) $line['variation_id'] : 0,
				'quantity'     => (int) $line['quantity'],
				'variation'    => $variation,
			);
		}
		$cart_id = self::session_cart_id();
		// phpcs:ignore WordPress.DB.DirectDatabaseQuery -- our own table.
		$wpdb->replace(
			self::table(),
			array(
				'cart_id'    => $cart_id,
				'phone'      => substr( sanitize_text_field( $phone ), 0, 64 ),
				'phone_key'  => Relay_SMS_Privacy::phone_key( $phone ),
				'name'       => Relay_SMS_Event_Builder::text( $name, 200 ),
				'email_hash' => Relay_SMS_Privacy::email_hash( $email ),
				'consent'    => $consent ? 1 : 0,
				'items'      => wp_json_encode( $items, JSON_UNESCAPED_UNICODE ),
				'contents'   => wp_json_encode( $contents, JSON_UNESCAPED_UNICODE ),
				'total'      => (float) WC()->cart->get_total( 'edit' ),
				'currency'   => substr( (string) get_woocommerce_currency(), 0, 3 ),
				'status'     => Relay_SMS_Abandonment::OPEN,
				'updated_at' => time(),
			)
		);
	}

	/**
	 * The customer withdrew (or never gave) consent: drop this session's open cart.
	 */
	public static function forget() {
		global $wpdb;
		$cart_id = self::session_cart_id( false );
		if ( $cart_id ) {
			// phpcs:ignore WordPress.DB.DirectDatabaseQuery -- our own table.
			$wpdb->delete( self::table(), array( 'cart_id' => $cart_id, 'status' => Relay_SMS_Abandonment::OPEN ) );
		}
	}

	/**
	 * The sweep job: report the carts left for the configured delay, delete carts older than
	 * 30 days, prune the queue and give lost send actions back.
	 */
	public static function sweep() {
		global $wpdb;
		$settings = Relay_SMS_Settings::get();
		$now      = time();
		$cutoff   = $now - 60 * $settings['cart_delay'];
		$consent  = 'consent' === $settings['cart_mode'] ? ' AND consent = 1' : '';
		// phpcs:ignore WordPress.DB.DirectDatabaseQuery, WordPress.DB.PreparedSQL.NotPrepared -- our own table.
		$rows    = $wpdb->get_results( $wpdb->prepare( 'SELECT cart_id, phone, name, email_hash, items, total, currency, status, updated_at FROM ' . self::table() . ' WHERE status = %s AND updated_at <= %d' . $consent . ' ORDER BY updated_at LIMIT 200', Relay_SMS_Abandonment::OPEN, $cutoff ), ARRAY_A );
		$builder = new Relay_SMS_Event_Builder( home_url( '/' ) );
		foreach ( $rows as &$row ) {
			$row['items'] = json_decode( $row['items'], true );
		}
		unset( $row );
		foreach ( Relay_SMS_Abandonment::due( $rows, $now, $settings['cart_delay'] ) as $cart ) {
			// Claim the cart first: a sweep running twice reports it once.
			// phpcs:ignore WordPress.DB.DirectDatabaseQuery -- our own table.
			$claimed = $wpdb->update( self::table(), array( 'status' => Relay_SMS_Abandonment::REPORTED ), array( 'cart_id' => $cart['cart_id'], 'status' => Relay_SMS_Abandonment::OPEN, 'updated_at' => $cart['updated_at'] ) );
			if ( 1 !== $claimed ) {
				continue;
			}
			$url   = Relay_SMS_Abandonment::recovery_url( home_url( '/' ), $cart['cart_id'], wp_salt( 'auth' ), $now + self::LINK_DAYS * DAY_IN_SECONDS );
			$event = $builder->cart_abandoned( $cart, $settings['cart_delay'], $url );
			Relay_SMS_Queue::enqueue( $event );
			// The queue row finds the person by e-mail too.
			// phpcs:ignore WordPress.DB.DirectDatabaseQuery -- our own table.
			$wpdb->update( Relay_SMS_Queue::table(), array( 'email_hash' => $cart['email_hash'] ), array( 'event_id' => $event['event_id'] ) );
		}
		// phpcs:ignore WordPress.DB.DirectDatabaseQuery, WordPress.DB.PreparedSQL.NotPrepared -- our own table.
		$wpdb->query( $wpdb->prepare( 'DELETE FROM ' . self::table() . ' WHERE updated_at < %d', $now - self::KEEP_DAYS * DAY_IN_SECONDS ) );
		Relay_SMS_Queue::prune();
		Relay_SMS_Queue::reconcile();
		Relay_SMS_Jobs::sweep_done();
	}

	/**
	 * An order was placed: settle its cart (converted, or recovered → cart.recovered).
	 *
	 * @param WC_Order $order Order.
	 */
	public static function order_placed( $order ) {
		global $wpdb;
		$cart_id = (string) $order->get_meta( self::ORDER_META );
		if ( '' === $cart_id ) {
			return;
		}
		// phpcs:ignore WordPress.DB.DirectDatabaseQuery -- our own table.
		$cart = $wpdb->get_row( $wpdb->prepare( 'SELECT * FROM ' . self::table() . ' WHERE cart_id = %s', $cart_id ), ARRAY_A );
		if ( $cart ) {
			$status = Relay_SMS_Abandonment::on_order( $cart['status'] );
			// phpcs:ignore WordPress.DB.DirectDatabaseQuery -- our own table.
			$wpdb->update( self::table(), array( 'status' => $status, 'order_id' => $order->get_id() ), array( 'cart_id' => $cart_id ) );
			if ( Relay_SMS_Abandonment::RECOVERED === $status ) {
				$builder = new Relay_SMS_Event_Builder( home_url( '/' ) );
				Relay_SMS_Queue::enqueue( $builder->cart_recovered( $cart, (string) $order->get_id(), time() ), $order->get_billing_email() );
			}
		}
		if ( WC()->session ) {
			WC()->session->set( self::SESSION_KEY, null ); // the next cart is a new cart
		}
	}

	/**
	 * What a recovery link may do: ok, invalid, expired, ordered or missing.
	 *
	 * @param string $cart_id Cart id from the link.
	 * @param mixed  $expires Expiry from the link.
	 * @param mixed  $key     Key from the link.
	 * @return string
	 */
	public static function link_status( $cart_id, $expires, $key ) {
		global $wpdb;
		// phpcs:ignore WordPress.DB.DirectDatabaseQuery, WordPress.DB.PreparedSQL.NotPrepared -- our own table.
		$status = $wpdb->get_var( $wpdb->prepare( 'SELECT status FROM ' . self::table() . ' WHERE cart_id = %s', $cart_id ) );
		return Relay_SMS_Abandonment::check_link( $cart_id, $expires, $key, wp_salt( 'auth' ), time(), null === $status ? null : (string) $status );
	}

	/**
	 * The reminder's link: put the cart back and go to the checkout; an expired link, or one
	 * for a cart already ordered, only says so.
	 */
	public static function restore() {
		// phpcs:disable WordPress.Security.NonceVerification.Recommended -- the HMAC key is the check.
		if ( empty( $_GET['relay-sms-cart'] ) || empty( $_GET['relay-sms-key'] ) || ! function_exists( 'WC' ) || ! WC()->cart ) {
			return;
		}
		global $wpdb;
		$cart_id = sanitize_text_field( wp_unslash( $_GET['relay-sms-cart'] ) );
		$key     = sanitize_text_field( wp_unslash( $_GET['relay-sms-key'] ) );
		$expires = isset( $_GET['relay-sms-exp'] ) ? sanitize_text_field( wp_unslash( $_GET['relay-sms-exp'] ) ) : '';
		// phpcs:enable WordPress.Security.NonceVerification.Recommended
		$status = self::link_status( $cart_id, $expires, $key );
		if ( 'ok' !== $status ) {
			if ( function_exists( 'wc_add_notice' ) && in_array( $status, array( 'expired', 'ordered', 'missing' ), true ) ) {
				wc_add_notice( 'ordered' === $status ? __( 'This cart has already been ordered.', 'relay-sms' ) : __( 'This cart link has expired.', 'relay-sms' ), 'notice' );
			}
			return;
		}
		// phpcs:ignore WordPress.DB.DirectDatabaseQuery, WordPress.DB.PreparedSQL.NotPrepared -- our own table.
		$contents = $wpdb->get_var( $wpdb->prepare( 'SELECT contents FROM ' . self::table() . ' WHERE cart_id = %s', $cart_id ) );
		$lines    = json_decode( (string) $contents, true );
		if ( ! is_array( $lines ) ) {
			return;
		}
		WC()->cart->empty_cart();
		foreach ( $lines as $line ) {
			WC()->cart->add_to_cart( (int) $line['product_id'], (int) $line['quantity'], (int) $line['variation_id'], (array) $line['variation'] );
		}
		WC()->session->set( self::SESSION_KEY, $cart_id );
		wp_safe_redirect( wc_get_checkout_url() );
		exit;
	}
}
