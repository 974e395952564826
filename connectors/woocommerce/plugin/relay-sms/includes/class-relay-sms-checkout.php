<?php
/**
 * The SMS-marketing consent checkbox at checkout, classic and block, and its consent events.
 *
 * Classic checkout: the box is printed before the "Place order" button
 * (`woocommerce_review_order_before_submit`) and saved to the order's meta
 * `_relay_sms_marketing_consent` in `woocommerce_checkout_create_order`.
 * Block checkout: an additional checkout field (`woocommerce_register_additional_checkout_field`,
 * location `order`, type `checkbox`, id `relay-sms/marketing-consent`), which WooCommerce stores
 * under `_wc_other/relay-sms/marketing-consent` ('1' / '0').
 * Either way, once the order exists a `consent.granted` / `consent.revoked` event with the
 * exact wording, the time, IP and user agent goes to the relay's send queue.
 *
 * This program is free software; you can redistribute it and/or modify it under the terms of
 * the GNU General Public License as published by the Free Software Foundation; either version
 * 2 of the License, or (at your option) any later version.
 *
 * @package RelaySms
 */

defined( 'ABSPATH' ) || exit;

/**
 * Checkout hooks.
 */
class Relay_SMS_Checkout {

	const USER_META_STATE   = 'relay_sms_marketing_consent';
	const USER_META_WORDING = 'relay_sms_marketing_consent_wording';
	const WORDING_META      = '_relay_sms_consent_wording';

	/**
	 * Hooks.
	 */
	public static function init() {
		add_action( 'woocommerce_review_order_before_submit', array( __CLASS__, 'classic_field' ) );
		add_action( 'woocommerce_checkout_create_order', array( __CLASS__, 'classic_save' ), 10, 2 );
		add_action( 'woocommerce_checkout_order_processed', array( __CLASS__, 'classic_processed' ), 10, 3 );
		add_action( 'woocommerce_init', array( __CLASS__, 'register_block_field' ) );
		add_filter( 'woocommerce_get_default_value_for_' . Relay_SMS_Consent::BLOCK_FIELD, array( __CLASS__, 'block_default' ), 10, 3 );
		add_action( 'woocommerce_store_api_checkout_update_order_from_request', array( __CLASS__, 'block_save' ), 10, 2 );
		add_action( 'woocommerce_store_api_checkout_order_processed', array( __CLASS__, 'block_processed' ) );
	}

	/**
	 * The current user's choice on file: true, false, or null (guest / never asked).
	 *
	 * @return bool|null
	 */
	public static function previous() {
		$user = get_current_user_id();
		if ( ! $user ) {
			return null;
		}
		$state = get_user_meta( $user, self::USER_META_STATE, true );
		return '' === $state ? null : 'yes' === $state;
	}

	/**
	 * Classic checkout: print the box (unticked unless this customer agreed before).
	 */
	public static function classic_field() {
		$wording = Relay_SMS_Settings::get()['consent_wording'];
		echo '<div class="relay-sms-consent">';
		woocommerce_form_field(
			Relay_SMS_Consent::CLASSIC_FIELD,
			array(
				'type'     => 'checkbox',
				'class'    => array( 'form-row-wide' ),
				'label'    => esc_html( $wording ),
				'required' => false,
			),
			true === self::previous() ? 1 : 0
		);
		echo '</div>';
	}

	/**
	 * Classic checkout: the box and the wording shown go onto the order.
	 *
	 * @param WC_Order $order Order being created.
	 * @param array    $data  Posted checkout data.
	 */
	public static function classic_save( $order, $data ) {
		// phpcs:ignore WordPress.Security.NonceVerification.Missing -- WooCommerce verified the checkout nonce.
		$ticked = Relay_SMS_Consent::is_ticked( isset( $_POST[ Relay_SMS_Consent::CLASSIC_FIELD ] ) ? wp_unslash( $_POST[ Relay_SMS_Consent::CLASSIC_FIELD ] ) : '' );
		$order->update_meta_data( Relay_SMS_Consent::CLASSIC_META, $ticked ? '1' : '0' );
		self::stamp( $order );
	}

	/**
	 * Wording shown and the captured cart, saved with the order (both checkouts).
	 *
	 * @param WC_Order $order Order.
	 */
	private static function stamp( $order ) {
		$order->update_meta_data( self::WORDING_META, Relay_SMS_Settings::get()['consent_wording'] );
		$cart_id = Relay_SMS_Carts::session_cart_id( false );
		if ( $cart_id ) {
			$order->update_meta_data( Relay_SMS_Carts::ORDER_META, $cart_id );
		}
	}

	/**
	 * Classic checkout: the order exists; report consent and the cart.
	 *
	 * @param int      $order_id Order id.
	 * @param array    $posted   Posted data.
	 * @param WC_Order $order    Order.
	 */
	public static function classic_processed( $order_id, $posted, $order ) {
		self::report( $order, Relay_SMS_Consent::is_ticked( $order->get_meta( Relay_SMS_Consent::CLASSIC_META ) ) );
	}

	/**
	 * Block checkout: register the field in the order-information block.
	 */
	public static function register_block_field() {
		if ( ! function_exists( 'woocommerce_register_additional_checkout_field' ) ) {
			return; // WooCommerce older than 8.9: only the classic checkout gets the box.
		}
		woocommerce_register_additional_checkout_field(
			array(
				'id'       => Relay_SMS_Consent::BLOCK_FIELD,
				'label'    => Relay_SMS_Settings::get()['consent_wording'],
				'location' => 'order',
				'type'     => 'checkbox',
				'required' => false,
			)
		);
	}

	/**
	 * Block checkout: tick the box only for a customer who agreed before.
	 *
	 * @param mixed  $value Default.
	 * @param string $group Group.
	 * @param mixed  $wc_object Customer or order.
	 * @return mixed
	 */
	public static function block_default( $value, $group, $wc_object ) {
		return true === self::previous() ? true : $value;
	}

	/**
	 * Block checkout: stamp the order while the Store API builds it.
	 *
	 * @param WC_Order        $order   Order.
	 * @param WP_REST_Request $request Request.
	 */
	public static function block_save( $order, $request ) {
		self::stamp( $order );
	}

	/**
	 * Block checkout: the order exists; report consent and the cart.
	 *
	 * @param WC_Order $order Order.
	 */
	public static function block_processed( $order ) {
		self::report( $order, Relay_SMS_Consent::is_ticked( $order->get_meta( Relay_SMS_Consent::BLOCK_META ) ) );
	}

	/**
	 * Queue the consent event (if the choice is news) and settle the order's cart.
	 *
	 * @param WC_Order $order  Order.
	 * @param bool     $ticked The box.
	 */
	private static function report( $order, $ticked ) {
		$wording  = (string) $order->get_meta( self::WORDING_META );
		$wording  = '' === $wording ? Relay_SMS_Settings::get()['consent_wording'] : $wording;
		$user     = $order->get_customer_id();
		$previous = self::previous();
		$before   = $user ? (string) get_user_meta( $user, self::USER_META_WORDING, true ) : null;
		$decision = Relay_SMS_Consent::decide( $previous, $before, $ticked, $wording );
		$phone    = $order->get_billing_phone();
		if ( $decision && Relay_SMS_Abandonment::has_phone( $phone ) ) {
			$created = $order->get_date_created();
			$builder = new Relay_SMS_Event_Builder( home_url( '/' ) );
			Relay_SMS_Queue::enqueue(
				$builder->consent(
					'granted' === $decision,
					$phone,
					$wording,
					$order->get_customer_ip_address(),
					$order->get_customer_user_agent(),
					$created ? $created->getTimestamp() : time(),
					(string) $order->get_id()
				),
				$order->get_billing_email()
			);
			if ( $user ) {
				update_user_meta( $user, self::USER_META_STATE, 'granted' === $decision ? 'yes' : 'no' );
				update_user_meta( $user, self::USER_META_WORDING, $wording );
			}
		}
		Relay_SMS_Carts::order_placed( $order );
	}
}
